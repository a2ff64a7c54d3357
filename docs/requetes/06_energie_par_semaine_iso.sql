-- Énergie produite par semaine ISO et par éolienne, d'après les mesures 10 minutes.
-- La dimension calendrier donne la semaine ISO ; l'énergie d'une période valide est sa
-- puissance moyenne multipliée par 1/6 d'heure (résultat en MWh).
select
    dd.iso_year,
    dd.iso_week,
    fct.turbine_id,
    min(dd.calendar_date) as first_day,
    count(*) filter (where fct.is_valid) as valid_periods,
    round((sum(fct.active_power_avg) filter (where fct.is_valid) / 6000)::numeric, 2)
        as energy_mwh
from core.fct_turbine_measurements as fct
inner join core.dim_date as dd on fct.date_key = dd.date_key
group by dd.iso_year, dd.iso_week, fct.turbine_id
order by dd.iso_year, dd.iso_week, fct.turbine_id;

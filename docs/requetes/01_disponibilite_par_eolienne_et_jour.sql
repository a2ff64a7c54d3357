-- Périodes valides et puissance moyenne par éolienne et par jour.
-- Une ligne par éolienne et par jour : périodes de 10 minutes attendues, présentes et
-- valides (sans drapeau qualité), puissance moyenne et énergie estimée sur les périodes
-- valides.
select
    fct.turbine_id,
    dd.calendar_date,
    count(*) as expected_periods,
    count(*) filter (where not fct.is_gap) as present_periods,
    count(*) filter (where fct.is_valid) as valid_periods,
    round(avg(fct.active_power_avg) filter (where fct.is_valid)::numeric, 1) as mean_power_kw,
    round((sum(fct.active_power_avg) filter (where fct.is_valid) / 6)::numeric, 0) as energy_kwh
from core.fct_turbine_measurements as fct
inner join core.dim_date as dd on fct.date_key = dd.date_key
group by fct.turbine_id, dd.calendar_date
order by fct.turbine_id, dd.calendar_date;

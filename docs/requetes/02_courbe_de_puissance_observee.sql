-- Courbe de puissance observée, comparée à la puissance nominale du modèle.
-- Les périodes valides sont regroupées par classe de vent de 1 m/s : puissance moyenne
-- et taux de charge (puissance / puissance nominale) par éolienne et par classe.
select
    fct.turbine_id,
    floor(fct.wind_speed_avg)::integer as wind_speed_bin_ms,
    count(*) as periods,
    round(avg(fct.active_power_avg)::numeric, 1) as mean_power_kw,
    round((avg(fct.active_power_avg) / max(dt.rated_power_kw))::numeric, 3) as load_factor
from core.fct_turbine_measurements as fct
inner join core.dim_turbine as dt on fct.turbine_key = dt.turbine_key
where fct.is_valid and fct.wind_speed_avg is not null
group by fct.turbine_id, floor(fct.wind_speed_avg)
order by fct.turbine_id, wind_speed_bin_ms;

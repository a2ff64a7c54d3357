-- Dérive de la température du roulement du multiplicateur par rapport au parc.
-- Signe précurseur d'une panne : pour chaque jour, l'écart entre la température moyenne
-- du roulement d'une éolienne et la moyenne des autres éoliennes du même site.
with daily as (
    select
        fct.turbine_id,
        dt.site_code,
        fct.measured_date,
        avg(fct.gearbox_bearing_temp_avg) as bearing_temp_c
    from core.fct_turbine_measurements as fct
    inner join core.dim_turbine as dt on fct.turbine_key = dt.turbine_key
    where fct.is_valid
    group by fct.turbine_id, dt.site_code, fct.measured_date
),

compared as (
    select
        turbine_id,
        measured_date,
        bearing_temp_c,
        (sum(bearing_temp_c) over (partition by site_code, measured_date) - bearing_temp_c)
        / nullif(count(*) over (partition by site_code, measured_date) - 1, 0)
            as others_temp_c
    from daily
)

select
    turbine_id,
    measured_date,
    round(bearing_temp_c::numeric, 1) as bearing_temp_c,
    round(others_temp_c::numeric, 1) as others_temp_c,
    round((bearing_temp_c - others_temp_c)::numeric, 1) as drift_c
from compared
where others_temp_c is not null
order by drift_c desc, turbine_id asc, measured_date asc
limit 20;

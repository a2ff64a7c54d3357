-- Jeu de données d'apprentissage : mesures 10 minutes enrichies de la météo du site.
-- Chaque période valide reçoit l'observation météo horaire de son site, la moyenne
-- glissante sur 24 heures de la température du roulement et l'écart à cette moyenne.
select
    fct.turbine_id,
    fct.measured_at,
    fct.wind_speed_avg,
    fct.active_power_avg,
    fct.rotor_speed_avg,
    fct.gearbox_oil_temp_avg,
    fct.gearbox_bearing_temp_avg,
    avg(fct.gearbox_bearing_temp_avg) over (
        partition by fct.turbine_id order by fct.measured_at
        rows between 143 preceding and current row
    ) as bearing_temp_24h_avg,
    fct.gearbox_bearing_temp_avg - avg(fct.gearbox_bearing_temp_avg) over (
        partition by fct.turbine_id order by fct.measured_at
        rows between 143 preceding and current row
    ) as bearing_temp_vs_24h,
    wx.temperature_2m_c,
    wx.wind_speed_10m_ms,
    wx.wind_gusts_10m_ms
from core.fct_turbine_measurements as fct
inner join core.dim_turbine as dt on fct.turbine_key = dt.turbine_key
left join core.fct_weather_hourly as wx
    on
        dt.site_code = wx.site_code
        and date_trunc('hour', fct.measured_at) = wx.observed_at
where fct.is_valid
order by fct.turbine_id, fct.measured_at
limit 1000;

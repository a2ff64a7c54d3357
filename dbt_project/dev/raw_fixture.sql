-- Development fixture: the `raw` tables of docs/architecture.md, created by hand with the
-- column types dlt gives them in PostgreSQL, and two days of plausible rows for three
-- turbines with the demo's fault kinds (gap, identical and conflicting duplicates, spike,
-- frozen temperature). For a scratch database only, never for the real one:
--   createdb -h 127.0.0.1 -U postgres windfarm_dbt_dev
--   psql -h 127.0.0.1 -U postgres -d windfarm_dbt_dev -v ON_ERROR_STOP=1 -f dev/raw_fixture.sql
set time zone 'UTC';

drop schema if exists raw cascade;
create schema raw;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists core;
create schema if not exists ml;
create schema if not exists quality;
create schema if not exists reference;

create table raw.scada_turbines (
    turbine_id varchar, turbine_name varchar, site_code varchar, site_name varchar,
    model varchar, manufacturer varchar, rated_power_kw double precision,
    hub_height_m double precision, rotor_diameter_m double precision,
    latitude double precision, longitude double precision, commissioned_on date,
    _dlt_load_id varchar not null, _dlt_id varchar not null unique
);

create table raw.scada_measurements (
    source_row_id bigint, turbine_id varchar, measured_at timestamptz,
    wind_speed_avg double precision, wind_direction_avg double precision,
    active_power_avg double precision, rotor_speed_avg double precision,
    pitch_angle_avg double precision, gearbox_oil_temp_avg double precision,
    gearbox_bearing_temp_avg double precision, generator_stator_temp_avg double precision,
    nacelle_temp_avg double precision, ambient_temp_avg double precision,
    auxiliary_consumption_avg double precision,
    measured_date date, _source_table varchar,
    _dlt_load_id varchar not null, _dlt_id varchar not null unique
);

create table raw.scada_alarms (
    source_row_id bigint, turbine_id varchar, alarm_code bigint,
    started_at timestamptz, ended_at timestamptz, acknowledged_by_pseudonym varchar,
    started_date date, _source_table varchar,
    _dlt_load_id varchar not null, _dlt_id varchar not null unique
);

create table raw.production_daily (
    production_date date, turbine_id varchar, energy_kwh double precision,
    availability_pct double precision, operating_hours double precision,
    _source_file varchar, _source_line bigint, _source_file_sha256 varchar,
    _dlt_load_id varchar not null, _dlt_id varchar not null unique
);

create table raw.maintenance_log (
    intervention_id varchar, turbine_id varchar, started_at timestamptz,
    ended_at timestamptz, intervention_type varchar, component varchar,
    description varchar, technician_pseudonym varchar, technician_email_pseudonym varchar,
    _source_file varchar, _source_line bigint, _source_file_sha256 varchar,
    _dlt_load_id varchar not null, _dlt_id varchar not null unique
);

create table raw.production_daily__rejected (
    _source_file varchar, _source_line bigint, _source_file_sha256 varchar,
    raw_line varchar, reason varchar,
    _dlt_load_id varchar not null, _dlt_id varchar not null unique
);

create table raw.maintenance_log__rejected (like raw.production_daily__rejected);

create table raw.weather_hourly (
    site_code varchar, latitude double precision, longitude double precision,
    observed_at timestamptz, temperature_2m double precision,
    relative_humidity_2m double precision, surface_pressure double precision,
    precipitation double precision, wind_speed_10m double precision,
    wind_direction_10m double precision, wind_gusts_10m double precision,
    observed_date date, _request varchar,
    _dlt_load_id varchar not null, _dlt_id varchar not null unique
);

-- Turbines: replaced on each load.
insert into raw.scada_turbines
select
    'MTC-T0' || n, 'Mont Crosnier ' || n, 'MTC', 'Parc éolien du Mont Crosnier', 'MM82',
    'Senvion', 2050, 80, 82, 48.45 + n * 0.002, 5.59 + n * 0.003, date '2012-06-01',
    '1761600000.000001', 'tur' || n
from generate_series(1, 3) as n;

-- Measurements: T01 and T02 from 25 Oct 00:00 UTC, T03 from 25 Oct 06:00 UTC, to 26 Oct
-- 23:50 UTC. One dlt load per UTC day.
insert into raw.scada_measurements
select
    row_number() over (order by t, n) + 1000,
    'MTC-T0' || n,
    t,
    ws,
    200 + 20 * sin(i / 30.0),
    greatest(-20, least(2050, 2050 / (1 + exp(-(ws - 9) / 1.3)) - 20)),
    case when ws > 3 then least(17, 3 + ws) else 0.5 end,
    case when ws > 13 then (ws - 13) * 2 else 0 end,
    48 + 4 * sin(i / 40.0 + n),
    60 + 5 * sin(i / 50.0 + n),
    80 + 10 * sin(i / 25.0 + n),
    25 + 3 * sin(i / 60.0),
    9 + 4 * sin(i / 72.0),
    4 + 1.5 * sin(i / 10.0),
    (t at time zone 'UTC')::date,
    'scada_10min',
    case when t < timestamptz '2025-10-26 00:00+00'
        then '1761500000.100000' else '1761590000.200000' end,
    'm-' || n || '-' || i
from generate_series(1, 3) as n
cross join lateral generate_series(
    timestamptz '2025-10-25 00:00+00', timestamptz '2025-10-26 23:50+00', interval '10 minutes'
) with ordinality as g (t, i)
cross join lateral (select 7 + 5 * sin(i / 20.0 + n) + n * 0.3 as ws) as w
where not (n = 3 and t < timestamptz '2025-10-25 06:00+00');

-- Gap: T02 lost one hour on 25 Oct.
delete from raw.scada_measurements
where turbine_id = 'MTC-T02'
  and measured_at >= timestamptz '2025-10-25 10:00+00'
  and measured_at < timestamptz '2025-10-25 11:00+00';

-- Identical duplicate: T01, 25 Oct 12:00 stored twice.
insert into raw.scada_measurements
select source_row_id + 100000, turbine_id, measured_at, wind_speed_avg, wind_direction_avg,
    active_power_avg, rotor_speed_avg, pitch_angle_avg, gearbox_oil_temp_avg,
    gearbox_bearing_temp_avg, generator_stator_temp_avg, nacelle_temp_avg, ambient_temp_avg,
    auxiliary_consumption_avg, measured_date, _source_table, _dlt_load_id, _dlt_id || '-dup'
from raw.scada_measurements
where turbine_id = 'MTC-T01' and measured_at = timestamptz '2025-10-25 12:00+00';

-- Conflicting duplicate: T03, 26 Oct 03:00 stored twice with different power.
insert into raw.scada_measurements
select source_row_id + 100000, turbine_id, measured_at, wind_speed_avg, wind_direction_avg,
    active_power_avg + 321, rotor_speed_avg, pitch_angle_avg, gearbox_oil_temp_avg,
    gearbox_bearing_temp_avg, generator_stator_temp_avg, nacelle_temp_avg, ambient_temp_avg,
    auxiliary_consumption_avg, measured_date, _source_table, _dlt_load_id, _dlt_id || '-conf'
from raw.scada_measurements
where turbine_id = 'MTC-T03' and measured_at = timestamptz '2025-10-26 03:00+00';

-- Spike: T01 wind speed 99 m/s on 26 Oct 14:00; a null signal on T03.
update raw.scada_measurements set wind_speed_avg = 99
where turbine_id = 'MTC-T01' and measured_at = timestamptz '2025-10-26 14:00+00';
update raw.scada_measurements set nacelle_temp_avg = null
where turbine_id = 'MTC-T03' and measured_at = timestamptz '2025-10-26 15:00+00';

-- Frozen: T02 gearbox oil temperature stuck at 55.5 for two hours on 26 Oct.
update raw.scada_measurements set gearbox_oil_temp_avg = 55.5
where turbine_id = 'MTC-T02'
  and measured_at >= timestamptz '2025-10-26 08:00+00'
  and measured_at < timestamptz '2025-10-26 10:00+00';

insert into raw.scada_alarms values
(1, 'MTC-T02', 3120, '2025-10-25 09:40+00', '2025-10-25 11:10+00', 'op_3f9a1c', '2025-10-25',
    'alarm_event', '1761500000.100000', 'al1'),
(2, 'MTC-T01', 5002, '2025-10-26 01:00+00', '2025-10-26 02:30+00', null, '2025-10-26',
    'alarm_event', '1761590000.200000', 'al2'),
(3, 'MTC-T03', 2105, '2025-10-26 20:00+00', null, null, '2025-10-26',
    'alarm_event', '1761590000.200000', 'al3');

insert into raw.production_daily values
('2025-10-25', 'MTC-T01', 18234.5, 100, 22.5, 'production_journaliere_2025-10.csv', 2, 'aa11',
    '1761600000.000002', 'pd1'),
('2025-10-25', 'MTC-T02', 17001.0, 95.8, 21.0, 'production_journaliere_2025-10.csv', 3, 'aa11',
    '1761600000.000002', 'pd2'),
('2025-10-25', 'MTC-T03', 14100.2, 75.0, 17.2, 'production_journaliere_2025-10.csv', 4, 'aa11',
    '1761600000.000002', 'pd3'),
('2025-10-26', 'MTC-T01', 19010.0, 100, 23.9, 'production_journaliere_2025-10.csv', 5, 'aa11',
    '1761600000.000002', 'pd4');

insert into raw.production_daily__rejected values
('production_journaliere_2025-10.csv', 6, 'aa11', '31/02/2025;MTC-T02;12 345,6;97,5;21,3',
    'invalid date 31/02/2025', '1761600000.000002', 'pdr1');

insert into raw.maintenance_log values
('INT-2025-0042', 'MTC-T02', '2025-10-25 09:00+00', '2025-10-25 11:00+00', 'Corrective',
    'gearbox_bearing', 'Remplacement roulement', 'tech_71be', 'mail_0c2d',
    'journal_maintenance_2025-10.csv', 2, 'bb22', '1761600000.000002', 'ml1'),
('INT-2025-0043', 'MTC-T01', '2025-10-26 07:30+00', null, 'Préventive',
    'pitch_system', 'Graissage', 'tech_71be', 'mail_0c2d',
    'journal_maintenance_2025-10.csv', 3, 'bb22', '1761600000.000002', 'ml2');

insert into raw.maintenance_log__rejected values
('journal_maintenance_2025-10.csv', 4, 'bb22',
    'INT-2025-0044;MTC-T03;abc;;Corrective;rotor;x;tech_9d;mail_77', 'invalid start date abc',
    '1761600000.000002', 'mlr1');

insert into raw.weather_hourly
select 'MTC', 48.45, 5.59, t, 9 + 4 * sin(i / 12.0), 80 + 10 * sin(i / 7.0),
    970 + 3 * sin(i / 24.0), case when i % 9 = 0 then 0.4 else 0 end,
    6 + 3 * sin(i / 6.0), 200 + 20 * sin(i / 5.0), 9 + 4 * sin(i / 6.0),
    (t at time zone 'UTC')::date,
    'GET /v1/archive?latitude=48.45&longitude=5.59&start_date=2025-10-25&end_date=2025-10-26',
    '1761600000.000003', 'w' || i
from generate_series(
    timestamptz '2025-10-25 00:00+00', timestamptz '2025-10-26 23:00+00', interval '1 hour'
) with ordinality as g (t, i);

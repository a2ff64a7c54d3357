{#-
    The quality page's QC flags and power curve cover the fact's newest this many days
    (a month, whatever the calendar): what a morning's check is about, at a cost that
    does not grow with the history. A macro rather than a var, so that the monitoring
    project, which repeats the main project's vars, needs no copy of it.
-#}
{% macro quality_recent_days() %}
{{ return(31) }}
{% endmacro %}

{#- The first of those days as a SQL date literal (macro newest_days_first_date). -#}
{% macro quality_recent_first_date(fact) %}
{{ return(newest_days_first_date(fact, quality_recent_days())) }}
{% endmacro %}

-- The components with failure labels in the ML mart (macro failure_components(), which
-- names the columns) are exactly the components seed's rows with is_failure_labelled.
with

in_macro as (

    select component from (
        values
        {%- for component in failure_components() %}
        ('{{ component }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ) as labelled_components (component)

),

in_seed as (

    select component
    from {{ ref('components') }}
    where is_failure_labelled

)

select
    coalesce(in_macro.component, in_seed.component) as component,
    case
        when in_seed.component is null then 'in failure_components() only'
        else 'in the components seed only'
    end as failure
from in_macro
full outer join in_seed
    on in_macro.component = in_seed.component
where in_macro.component is null or in_seed.component is null

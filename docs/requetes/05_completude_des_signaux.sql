-- Complétude et validité de chaque signal, par éolienne.
-- Lit le mart qualité : les signaux les moins complets d'abord, pour savoir quelles
-- variables imputer ou écarter avant l'entraînement d'un modèle.
select
    turbine_id,
    signal,
    expected_periods,
    pct_present,
    pct_non_null,
    pct_valid
from quality.quality_completeness
order by pct_valid, turbine_id, signal;

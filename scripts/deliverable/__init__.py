"""The client's deliverable: one folder `Projet_Collecte_Données_IA`, zipped.

Every item is produced from the live system (the warehouse database, dbt's manifest, the
latest quality page, the repository as git sees it) so that the deliverable cannot drift
from the code. `python -m scripts.deliverable build` makes it, `... check` checks it;
`make deliverable` runs both.
"""

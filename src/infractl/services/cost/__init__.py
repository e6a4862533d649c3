"""`infractl cost rightsize`: recommendations from measured utilisation, priced with the catalog
(docs/finops.md#right-sizing). rightsize.py is the entry; utilisation.py measures, recommend.py decides, ladder.py
holds the sizes a resource can take and their prices."""

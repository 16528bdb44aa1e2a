"""Product passports: GS1 identity, the document schema, canonical hashing, footprints."""

-- Officials: residents who sign for an agency, from the civil service register.
-- Their signing certificates name the agency and position.
CREATE TABLE officials (
    personal_number TEXT PRIMARY KEY NOT NULL REFERENCES people(personal_number),
    agency TEXT NOT NULL,
    position TEXT NOT NULL
);

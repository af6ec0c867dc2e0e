"""XSDs shipped as package data (the project metadata schema and the DA/T 48 EEP schema)."""

"""The archivists' review web app."""

"""The check registry: every DA/T 70 item and every scan check by stable ID, and the report model."""

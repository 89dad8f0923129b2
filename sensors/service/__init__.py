"""The climate side of the running daemon: buses polled, alarms recorded, history kept.

``climate`` runs one poller per bus and gives the pure decisions of ``sensors`` (limits,
fluctuation, preservation) their effects: alarms, metrics, MQTT and the health component;
``history_store`` keeps the per-minute history in the database and reads it back for the API.
"""

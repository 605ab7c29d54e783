from .envelope import Event, InvalidEvent, load_stored, new_event, parse_event, serialize_event  # noqa: F401

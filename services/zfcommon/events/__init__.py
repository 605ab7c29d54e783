from .envelope import Event, InvalidEvent, new_event, parse_event, serialize_event  # noqa: F401

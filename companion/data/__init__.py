"""Data for the course's experiments: real text shipped with Python, and
(in later chapters) generated tasks. Everything is made on the host from a
seed and moved to the backend at the edge."""

// shared definitions

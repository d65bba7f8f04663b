"""Customer memory system: the Python side (worker, clients, CLI) of a Supabase-native memory layer."""

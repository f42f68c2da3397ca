//! Gradient-based optimisers (placeholder, being written).

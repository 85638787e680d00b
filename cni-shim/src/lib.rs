//! CNI 1.1 plugin that gets pod addresses from the node agent and sets up veth and routes (not built yet).

"""Physics twins: gravitational-wave detector noise, calorimeter fast simulation."""

"""Built-in katibsim plugins, loaded through the same entry points a third party uses."""

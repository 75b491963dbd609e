"""Street lighting: schedules from the Sun, commands, faults and energy."""

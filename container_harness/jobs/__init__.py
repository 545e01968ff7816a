"""Jobs: the only place that composes the stages (build, run, load, measure, gate, report) into a whole run."""

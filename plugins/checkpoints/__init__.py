"""Building blocks of checkpoint format plugins (no format of its own): :mod:`.prefix`, a
layout given as prefix tables. Model families (e.g. :mod:`mmplug.plugins.video_llava`)
register their layouts with it."""

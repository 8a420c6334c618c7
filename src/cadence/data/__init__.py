"""rosbag2 <-> dataset with ``rosbags``: ``cadence bag info|convert`` and ``cadence record`` (issue 8).

Kept import-free: the CLI imports this package to find :mod:`cadence.data.cli`. Entry points:
:class:`cadence.data.bag.BagReader`, :func:`cadence.data.info.bag_info`,
:func:`cadence.data.convert.convert_bags`, :class:`cadence.data.dataset.Dataset`,
:func:`cadence.data.record.record_episodes`.
"""

"""Labelers that turn free-text radiology reports into observation labels.

``chexpert_rules``: the default rule-based labeler of the 14 CheXpert observations.
``neural``: optional plugins (CheXbert) that load a checkpoint the user has on disk.
"""

"""Resolve: probabilistic identity resolution with Splink, configured from the dictionary."""

from workbench.resolve.evaluate import PairwiseScores, pairwise_scores
from workbench.resolve.results import members_of
from workbench.resolve.run import ResolveReport, resolve

__all__ = ["PairwiseScores", "ResolveReport", "members_of", "pairwise_scores", "resolve"]

"""The personal tools: the lab-result explainer, the day's B12 counter and the food lists."""

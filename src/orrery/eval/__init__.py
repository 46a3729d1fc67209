"""orrery.eval"""

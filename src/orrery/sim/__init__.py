"""orrery.sim"""

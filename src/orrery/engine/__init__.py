"""orrery.engine"""

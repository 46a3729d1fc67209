"""orrery.data"""

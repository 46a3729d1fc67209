"""orrery.models"""

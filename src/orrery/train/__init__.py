"""orrery.train"""

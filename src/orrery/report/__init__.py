"""orrery.report"""

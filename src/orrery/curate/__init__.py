"""orrery.curate"""

"""orrery.tokenizer"""

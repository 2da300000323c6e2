"""AWS CDK (v2) for the bot: one construct per unit, wired by one stack."""

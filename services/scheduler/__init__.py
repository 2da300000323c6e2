"""The EventBridge Lambda: scheduled tasks and the bot's custom events."""

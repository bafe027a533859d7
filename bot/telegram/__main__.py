from bot.telegram import serve

raise SystemExit(serve())

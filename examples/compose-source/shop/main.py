from fastapi import FastAPI
from sqlalchemy import text

from shop.db import Session

app = FastAPI()


@app.get("/health")
async def health() -> dict[str, str]:
    async with Session() as session:
        await session.execute(text("SELECT 1"))
    return {"status": "ok"}

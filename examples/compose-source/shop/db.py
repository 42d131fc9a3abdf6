import os

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

engine = create_async_engine(
    os.environ["DATABASE_URL"],
    pool_size=8,
    max_overflow=2,
    pool_pre_ping=True,
)
Session = async_sessionmaker(engine, expire_on_commit=False)

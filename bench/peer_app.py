"""fastapi-users with its JWT strategy and bearer transport on SQLite (SQLAlchemy + aiosqlite).

The peer of `python bench/run.py --peer` (bench/peer.py): run by the throwaway virtualenv's Python
from a copy in the run's /tmp folder, never by the project, which does not install fastapi-users.

    python peer_app.py --init                       # the tables, in PEER_DB
    python -m uvicorn --app-dir FOLDER peer_app:app # the app
"""
import os
import sys
import uuid

from fastapi import Depends, FastAPI
from fastapi_users import BaseUserManager, FastAPIUsers, UUIDIDMixin, schemas
from fastapi_users.authentication import AuthenticationBackend, BearerTransport, JWTStrategy
from fastapi_users.db import SQLAlchemyBaseUserTableUUID, SQLAlchemyUserDatabase
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

SECRET = "peer-bench-secret-0123456789abcdef0123456789"
engine = create_async_engine("sqlite+aiosqlite:///" + os.environ["PEER_DB"])
sessions = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class User(SQLAlchemyBaseUserTableUUID, Base):
    pass


class UserRead(schemas.BaseUser[uuid.UUID]):
    pass


class UserCreate(schemas.BaseUserCreate):
    pass


class UserUpdate(schemas.BaseUserUpdate):
    pass


async def get_user_db():
    async with sessions() as session:
        yield SQLAlchemyUserDatabase(session, User)


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    reset_password_token_secret = SECRET
    verification_token_secret = SECRET


async def get_user_manager(user_db=Depends(get_user_db)):  # noqa: B008 - FastAPI's dependency idiom
    yield UserManager(user_db)


def get_strategy() -> JWTStrategy:
    return JWTStrategy(secret=SECRET, lifetime_seconds=3600)


backend = AuthenticationBackend(name="jwt", transport=BearerTransport(tokenUrl="auth/jwt/login"),
                                get_strategy=get_strategy)
users = FastAPIUsers[User, uuid.UUID](get_user_manager, [backend])
app = FastAPI()
app.include_router(users.get_auth_router(backend), prefix="/auth/jwt")
app.include_router(users.get_register_router(UserRead, UserCreate), prefix="/auth")
app.include_router(users.get_users_router(UserRead, UserUpdate), prefix="/users")

if __name__ == "__main__" and sys.argv[1:] == ["--init"]:
    import asyncio

    async def init():
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)

    asyncio.run(init())

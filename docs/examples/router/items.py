from fastapi import FastAPI, status
from pydantic import BaseModel

from mintaka.router import Router


class Item(BaseModel):
    name: str


router = Router(prefix="/items", tags=["items"])


@router.get("/{item_id}")
async def read_item(item_id: int) -> Item:  # response_model=Item, inferred
    return Item(name=f"item {item_id}")


@router.post("/{item_id}/reset", status_code=status.HTTP_205_RESET_CONTENT)
async def reset_item(item_id: int) -> None:  # no model; sent with no body
    return None


app = FastAPI()
app.include_router(router)

"""Energy-use prediction service: FastAPI routes over ONNX Runtime sessions."""

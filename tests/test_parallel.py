"A model still wrapped in DataParallel or DDP gets its maps from the model inside, as if it were not wrapped."
import os, tempfile
import torch, timm, pytest
from vatt.cam import compute_maps, hook_count


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return timm.create_model('resnet10t', num_classes=4).eval()


def test_data_parallel_is_unwrapped(model):
    x = torch.randn(2, 3, 64, 64)
    plain = compute_maps(model, x, ['gradcam', 'eigencam'], ['layer3', 'layer4'])
    wrapped = compute_maps(torch.nn.DataParallel(model), x, ['gradcam', 'eigencam'], ['module.layer3', 'layer4'])
    assert set(plain) == set(wrapped) and all(torch.equal(plain[k].maps, wrapped[k].maps) for k in plain)
    assert hook_count(model) == 0


def test_ddp_is_unwrapped(model):
    import torch.distributed as dist
    store = os.path.join(tempfile.mkdtemp(), 'store')
    dist.init_process_group('gloo', init_method=f'file://{store}', rank=0, world_size=1)
    try:
        ddp = torch.nn.parallel.DistributedDataParallel(model)
        x = torch.randn(2, 3, 64, 64)
        torch.testing.assert_close(compute_maps(ddp, x, 'gradcam')['gradcam', 'layer4'].maps, compute_maps(model, x, 'gradcam')['gradcam', 'layer4'].maps)
    finally: dist.destroy_process_group()

"The offline pretrained fallback is fast and says what to do; wrong architecture names list matches."
import time, warnings, pytest
import vatt.core
from vatt.core import VattError, hub_reachable
from vatt.data import image_dls
from vatt.drawn import make_inspection
from vatt.learner import make_learner, PretrainedUnavailable, check_arch


def test_offline_fallback_is_fast_and_warns(tmp_path, monkeypatch):
    "A hub that never answers (connection attempt hangs) costs at most the timeout, then random init with a warning."
    monkeypatch.delenv('HF_HUB_OFFLINE', raising=False)
    monkeypatch.setenv('HF_HOME', str(tmp_path/'hf'))  # empty cache: nothing to fall back on
    monkeypatch.setenv('TORCH_HOME', str(tmp_path/'torch'))
    monkeypatch.setattr(vatt.core, '_can_connect', lambda *a: time.sleep(30) or True)
    vatt.core._hub_reachable.cache_clear()
    dls = image_dls(make_inspection(tmp_path/'d', n_per_class=4, size=(48, 64)), size=(48, 64), bs=4)
    try:
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            learn = make_learner(dls, 'resnet18', pretrained=True)
        dt = time.perf_counter() - t0
    finally: vatt.core._hub_reachable.cache_clear()
    assert dt <= 5, dt
    ws = [x for x in w if x.category is PretrainedUnavailable]
    assert ws and 'weights=' in str(ws[0].message) and '/kaggle/input' in str(ws[0].message)
    assert learn.run_info.pretrained is False and 'random init' in learn.run_info.weights
    assert learn.model(dls.one_batch()[0]).shape == (4, 4)


def test_hub_check_bounded_even_when_resolution_hangs(monkeypatch):
    monkeypatch.delenv('HF_HUB_OFFLINE', raising=False)
    monkeypatch.setattr(vatt.core, '_can_connect', lambda *a: time.sleep(30) or True)
    vatt.core._hub_reachable.cache_clear()
    try:
        t0 = time.perf_counter(); assert hub_reachable(timeout=1.0) is False; assert time.perf_counter() - t0 < 2
    finally: vatt.core._hub_reachable.cache_clear()


@pytest.mark.parametrize('wrong,expected', [('convnext_tinny', 'convnext_tiny'), ('resnet_50', 'resnet50'),
                                            ('coatnet0_rw_224', 'coatnet_0_rw_224')])
def test_wrong_arch_lists_close_matches(wrong, expected):
    with pytest.raises(VattError) as e: check_arch(wrong)
    assert expected in str(e.value) and wrong in str(e.value)

import json


def test_first_gt_fifth_meets_its_goal_as_shipped(nnplay_cli):
    result = nnplay_cli("train", "first-gt-fifth", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["status"] == "finished"
    assert summary["epochs"] == 20 and summary["steps"] == 5000
    assert summary["val_accuracy"] >= 0.95
    assert summary["goal"]["met"] is True


def test_unknown_preset_exits_2_with_one_line(nnplay_cli):
    result = nnplay_cli("train", "no-such-preset")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "no-such-preset" in result.stderr and "first-gt-fifth" in result.stderr
    assert "Traceback" not in result.stderr

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using HeadTracking.Runtime.Models;
using HeadTracking.Tests;
using HeadTracking.Trainer.Cli.Commands;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Data.Loaders;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Onnx;
using HeadTracking.Trainer.Training;

namespace HeadTracking.Trainer.Tests;

/// <summary>headtracker-train train, --resume and eval as a user runs them.</summary>
public sealed class TrainCommandTests(SmallSynthData data) : IClassFixture<SmallSynthData>, IDisposable
{
    private readonly string _dir = Repo.NewTempDir("train-cmd");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Processes.Result Train(params string[] args) => Train(null, args);

    private static Processes.Result Train(Dictionary<string, string>? env, params string[] args) =>
        Processes.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "headtracker-train.dll"), .. args], env: env, timeoutSeconds: 600);

    [Fact]
    public void Train_writes_the_run_folder_resumes_and_eval_agrees()
    {
        string run = Path.Combine(_dir, "run");
        string[] common = ["--data", data.Set, "--heads", "center,keypoints,box", "--size", "64", "--batch", "16", "--max-batches", "3", "--threads", "2", "--out", run];
        // This test process set OMP_WAIT_POLICY for itself (and so for its children): empty, the
        // trainer sets its own; a user's value it keeps.
        var first = Train(new Dictionary<string, string> { [TorchSettings.WaitPolicyVariable] = "" }, ["train", .. common, "--freeze-epochs", "1", "--epochs", "1"]);
        Assert.True(first.ExitCode == 0, first.All);
        Assert.Contains("epoch  phase   train_loss  valid_loss  center_mse   center_px  keypoint_nme     box_iou  time", first.StdOut, StringComparison.Ordinal);
        Assert.Contains("idle OpenMP threads: PASSIVE (OMP_WAIT_POLICY)", first.StdOut, StringComparison.Ordinal);
        foreach (string file in new[] { "metrics.jsonl", "losses.png", "results.png", "model.onnx", "checkpoint/model.json", "checkpoint/weights.dat", "checkpoint/optimizer.dat", "checkpoint/run.json" })
        {
            Assert.True(File.Exists(Path.Combine(run, file)), $"{file} missing from the run folder");
        }

        Assert.Equal(2, File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Length);

        var resumed = Train(new Dictionary<string, string> { [TorchSettings.WaitPolicyVariable] = "ACTIVE" }, ["train", .. common, "--freeze-epochs", "1", "--epochs", "2", "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.All);
        Assert.Contains("idle OpenMP threads: ACTIVE (OMP_WAIT_POLICY)", resumed.StdOut, StringComparison.Ordinal);
        Assert.Contains("Resuming after epoch 2", resumed.StdOut, StringComparison.Ordinal);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Length);
        Assert.Contains("    2  all", resumed.StdOut, StringComparison.Ordinal);

        var eval = Train("eval", "--model", Path.Combine(run, "model.onnx"), "--data", data.Set, "--split", "valid", "--json", Path.Combine(_dir, "eval.json"));
        Assert.True(eval.ExitCode == 0, eval.All);
        var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "eval.json")));
        double mse = json.RootElement.GetProperty("metrics").GetProperty("center_mse").GetDouble();
        string lastEpoch = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"))[^1];
        double trained = System.Text.Json.JsonDocument.Parse(lastEpoch).RootElement.GetProperty("metrics").GetProperty("center_mse").GetDouble();
        Assert.InRange(mse, trained * 0.98, trained * 1.02); // ONNX Runtime on the export measures what the trainer measured

        // Broken down by yaw: the bins hold every valid item (all have poses), each measured alone.
        var byYaw = Train("eval", "--model", Path.Combine(run, "model.onnx"), "--data", data.Set, "--split", "valid", "--by", "yaw", "--json", Path.Combine(_dir, "by-yaw.json"));
        Assert.True(byYaw.ExitCode == 0, byYaw.All);
        var root = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "by-yaw.json"))).RootElement;
        var bins = root.GetProperty("bins").EnumerateObject().ToList();
        Assert.NotEmpty(bins);
        Assert.All(bins, b => Assert.StartsWith("|yaw| ", b.Name, StringComparison.Ordinal));
        Assert.Equal(root.GetProperty("items").GetInt32(), bins.Sum(b => b.Value.GetProperty("items").GetInt32()));
        Assert.All(bins, b => Assert.True(b.Value.GetProperty("metrics").GetProperty("center_mse").GetDouble() >= 0));
        var badBy = Train("eval", "--model", Path.Combine(run, "model.onnx"), "--data", data.Set, "--by", "pitch");
        Assert.Equal(2, badBy.ExitCode);
        Assert.Contains("option --by: 'pitch' is not one of: yaw, face, person, frame", badBy.StdErr, StringComparison.Ordinal);

        // By person: one bin per held-out identity, named as the labels name it.
        Assert.Equal(0, Train("eval", "--model", Path.Combine(run, "model.onnx"), "--data", data.Set, "--split", "valid", "--by", "person", "--json", Path.Combine(_dir, "by-person.json")).ExitCode);
        var people = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "by-person.json"))).RootElement.GetProperty("bins").EnumerateObject().ToList();
        var heldOut = LabelsFile.Read(Path.Combine(data.Set, LabelsFile.FileName), new SkipReport(), strict: true).Where(l => l.Split == "valid").GroupBy(l => l.Identity!).ToList();
        Assert.Equal(heldOut.Select(g => g.Key).Order(StringComparer.Ordinal), people.Select(b => b.Name));
        Assert.All(people, b => Assert.Equal(heldOut.Single(g => g.Key == b.Name).Count(), b.Value.GetProperty("items").GetInt32()));
    }

    [Fact]
    public void Eval_by_frame_bins_a_face_by_the_share_of_its_box_outside_the_image()
    {
        HeadLabel Boxed(double x0, double y0, double x1, double y1) => new() { Image = "a.jpg", Width = 100, Height = 80, Box = [x0, y0, x1, y1] };
        Assert.Equal("frame whole", EvalCommand.Bin(Boxed(0, 0, 100, 80), "frame"));
        Assert.Equal("frame cut 00-25%", EvalCommand.Bin(Boxed(-10, 10, 90, 50), "frame")); // a tenth outside
        Assert.Equal("frame cut 25%+", EvalCommand.Bin(Boxed(50, 40, 150, 120), "frame")); // three quarters outside
        Assert.Equal(0.75, EvalCommand.OutsideShare([50, 40, 150, 120], 100, 80), 9);
        Assert.Null(EvalCommand.Bin(Boxed(10, 10, 10, 50), "frame")); // no area: no bin
        Assert.Null(EvalCommand.Bin(new HeadLabel { Image = "a.jpg", Width = 100, Height = 80 }, "frame"));
    }

    [Fact]
    public void Init_fine_tunes_an_earlier_run_and_data_options_act_on_one_data_entry()
    {
        string first = Path.Combine(_dir, "first"), second = Path.Combine(_dir, "second");
        string[] common = ["--data", data.Set, "--heads", "center,keypoints,box", "--size", "64", "--batch", "16", "--threads", "2", "--freeze-epochs", "0"];
        var trained = Train(["train", .. common, "--epochs", "3", "--lr", "1e-2", "--max-batches", "8", "--out", first]);
        Assert.True(trained.ExitCode == 0, trained.All);
        double Loss(string run) => System.Text.Json.JsonDocument.Parse(File.ReadAllLines(Path.Combine(run, "metrics.jsonl"))[^1]).RootElement.GetProperty("valid_loss").GetDouble();

        // A learning rate of 1e-9 leaves the weights where --init put them (BatchNorm's running
        // statistics move a little in one batch): the run measures what the first one ended with;
        // heads started afresh measure several times that.
        var tuned = Train(["train", .. common, "--epochs", "1", "--max-batches", "1", "--lr", "1e-9", "--init", first, "--oversample", $"{data.Set}=3", "--drop-labels", $"{data.Set}=pose", "--out", second]);
        Assert.True(tuned.ExitCode == 0, tuned.All);
        Assert.Contains($"From {Path.Combine(first, TrainRun.CheckpointDir)}: the backbone and heads center,keypoints,box (", tuned.StdOut, StringComparison.Ordinal);
        Assert.InRange(Loss(second), Loss(first) * 0.95, Loss(first) * 1.05); // measured 0.6234 against 0.6235
        var fresh = Train(["train", .. common, "--epochs", "1", "--max-batches", "1", "--lr", "1e-9", "--out", Path.Combine(_dir, "fresh")]);
        Assert.True(fresh.ExitCode == 0, fresh.All);
        Assert.True(Loss(Path.Combine(_dir, "fresh")) > 2 * Loss(first), $"fresh heads {Loss(Path.Combine(_dir, "fresh"))}, trained {Loss(first)}");
        Assert.Contains("\"init\"", File.ReadAllText(Path.Combine(second, "model.onnx")), StringComparison.Ordinal);
        var recipe = ModelManifest.FromJson(OnnxFile.Load(Path.Combine(second, "model.onnx")).MetadataProps.Single(p => p.Key == ModelManifest.MetadataKey).Value).Training!;
        Assert.Equal("100", recipe["lr_mult"]); // the rates' spread, the default, recorded with the rest of the recipe
        Assert.Equal("0.01", recipe["wd"]);

        // Every training item comes from the one --data entry: all lose their pose, and each is
        // shown three times an epoch.
        var counts = System.Text.RegularExpressions.Regex.Match(tuned.StdOut, @"Data: (\d+) train.*\nDropped the pose labels of (\d+) training items from .*\nOversampled: (\d+) training items from .* x3 \((\d+) training items an epoch\)");
        Assert.True(counts.Success, tuned.StdOut);
        int[] n = [.. Enumerable.Range(1, 4).Select(g => int.Parse(counts.Groups[g].Value, System.Globalization.CultureInfo.InvariantCulture))];
        Assert.Equal([n[0], n[0], 3 * n[0]], [n[1], n[2], n[3]]);

        // A head built another way is not loaded: it starts as built.
        var other = Train(["train", .. common, "--epochs", "1", "--max-batches", "1", "--point-head", "keypoints=anchor", "--init", first, "--out", Path.Combine(_dir, "other")]);
        Assert.True(other.ExitCode == 0, other.All);
        Assert.Contains("the backbone and heads center,box (", other.StdOut, StringComparison.Ordinal);
        Assert.Contains("not there in this form, so as built: keypoints", other.StdOut, StringComparison.Ordinal);

        foreach ((string[] args, string expected) in new[]
        {
            (new[] { "--size", "96", "--init", first }, "option --init: "),
            (["--size", "64", "--init", first, "--resume"], "options --init and --resume: give one"),
            (["--size", "64", "--oversample", "elsewhere=2"], "option --oversample: 'elsewhere' is not one of the --data entries"),
            (["--size", "64", "--oversample", $"{data.Set}=0"], "option --oversample: '0'"),
            (["--size", "64", "--drop-labels", $"{data.Set}=halo"], "option --drop-labels: 'halo' is not one of"),
            (["--size", "64", "--point-head", "keypoints=spline"], "option --point-head: 'spline' is not regress, heatmap or anchor"),
        })
        {
            var r = Train(["train", "--data", data.Set, "--heads", "center,keypoints,box", "--max-batches", "1", .. args, "--out", Path.Combine(_dir, "bad")]);
            Assert.Equal(2, r.ExitCode);
            Assert.Contains(expected, r.StdErr, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(_dir, "bad", "checkpoint")));
        }
    }

    [Theory]
    [InlineData("unknown-arch")]
    [InlineData("unknown-head")]
    [InlineData("mask-without-masks")]
    [InlineData("tiny-data")]
    [InlineData("bad-point-head")]
    [InlineData("bad-mask-stride")]
    [InlineData("keep-without-anchor")]
    [InlineData("keep-only-keypoints")]
    [InlineData("keep-without-weights")]
    [InlineData("keep-from-without-keep")]
    [InlineData("keep-from-odd-stride")]
    [InlineData("guide-without-keep")]
    [InlineData("pose-blocks-without-anchor")]
    [InlineData("too-many-pose-blocks")]
    [InlineData("steady-without-pose-or-center")]
    [InlineData("steady-sigma-without-steady")]
    [InlineData("heads-only-not-a-data-entry")]
    [InlineData("pose-loss-unknown")]
    [InlineData("pose-loss-without-pose")]
    public void Bad_requests_fail_before_training_with_a_clear_message(string kind)
    {
        string teacher = Path.Combine(_dir, "teacher");
        Directory.CreateDirectory(teacher);
        File.Copy(Repo.Fetched("faces/sample1.jpg"), Path.Combine(teacher, "a.jpg"));
        File.WriteAllLines(Path.Combine(teacher, LabelsFile.FileName), ["{\"image\":\"a.jpg\",\"width\":1920,\"height\":1280,\"box\":[1,1,50,50]}"]);
        string noMasks = Path.Combine(_dir, "nomask");
        Directory.CreateDirectory(noMasks);
        foreach (string line in File.ReadLines(Path.Combine(data.Set, LabelsFile.FileName)).Take(40))
        {
            string image = System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("image").GetString()!;
            File.Copy(Path.Combine(data.Set, image), Path.Combine(noMasks, image));
            File.AppendAllText(Path.Combine(noMasks, LabelsFile.FileName), System.Text.RegularExpressions.Regex.Replace(line, ",\"mask\":\"[^\"]*\"", "") + "\n");
        }

        (string[] args, string expected) = kind switch
        {
            "unknown-arch" => (new[] { "--data", data.Set, "--arch", "vgg16" }, "backbone 'vgg16' is not one of"),
            "unknown-head" => (["--data", data.Set, "--heads", "center,halo"], "kind 'halo' is not one of"),
            "mask-without-masks" => (["--data", noMasks, "--heads", "center,mask", "--size", "64"], "head 'mask' needs mask labels"),
            "tiny-data" => (["--data", teacher, "--heads", "box"], "need at least 2 and 1"),
            "bad-point-head" => (["--data", data.Set, "--heads", "center", "--point-head", "spline"], "option --point-head: 'spline' is not regress, heatmap or anchor"),
            "bad-mask-stride" => (["--data", data.Set, "--heads", "center,mask", "--mask-stride", "3"], "mask stride 3 (--mask-stride): the backbone's feature strides are 2, 4, 8, 16"),
            "keep-without-anchor" => (["--data", data.Set, "--heads", "center,keypoints", "--keep-keypoints"], "keep_keypoints (--keep-keypoints) keeps BlazeFace's own keypoint path: it needs the blazeface backbone at 128x128 and a keypoints head with the anchor locator"),
            "keep-only-keypoints" => (["--data", data.Set, "--heads", "keypoints", "--point-head", "keypoints=anchor", "--keep-keypoints"], "option --keep-keypoints: every head of this model is kept as imported, so nothing would learn"),
            "keep-without-weights" => (["--data", data.Set, "--heads", "center,keypoints", "--point-head", "keypoints=anchor", "--keep-keypoints", "--weights", "none"], "options --keep-keypoints and --weights none"),
            "keep-from-without-keep" => (["--data", data.Set, "--heads", "center,keypoints", "--point-head", "keypoints=anchor", "--keep-from", "8"], "keep_keypoints_from (--keep-from) is 8: it needs keep_keypoints (--keep-keypoints) and is one of the strides 4, 8"),
            "keep-from-odd-stride" => (["--data", data.Set, "--heads", "center,keypoints", "--point-head", "keypoints=anchor", "--keep-keypoints", "--keep-from", "16"], "keep_keypoints_from (--keep-from) is 16: it needs keep_keypoints (--keep-keypoints) and is one of the strides 4, 8"),
            "guide-without-keep" => (["--data", data.Set, "--heads", "center,keypoints", "--point-head", "keypoints=anchor", "--guide-keypoints"], "guide_keypoints (--guide-keypoints) trains a second keypoint head beside the kept one: it needs keep_keypoints (--keep-keypoints)"),
            "pose-blocks-without-anchor" => (["--data", data.Set, "--heads", "center,pose", "--pose-blocks", "2"], "option --pose-blocks: 2 blocks need --pose-head anchor"),
            "too-many-pose-blocks" => (["--data", data.Set, "--heads", "center,pose", "--pose-head", "anchor", "--pose-blocks", "5"], "option --pose-blocks needs a whole number in [0, 4], got 5"),
            "steady-without-pose-or-center" => (["--data", data.Set, "--heads", "box,mask", "--steady", "0.1"], "option --steady: 0.1 weighs the change of the pose and center heads under noise; --heads has neither"),
            "steady-sigma-without-steady" => (["--data", data.Set, "--heads", "center,pose", "--steady-sigma", "2"], "option --steady-sigma: 2 grey levels need --steady W"),
            "heads-only-not-a-data-entry" => (["--data", data.Set, "--heads", "center,pose", "--heads-only", teacher], $"option --heads-only: '{teacher}' is not one of the --data entries"),
            "pose-loss-unknown" => (["--data", data.Set, "--heads", "center,pose", "--pose-loss", "l1"], "option --pose-loss: 'l1' is not squared or angle"),
            "pose-loss-without-pose" => (["--data", data.Set, "--heads", "center,box", "--pose-loss", "angle"], "option --pose-loss: angle is the pose head's loss; --heads has no pose"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        var r = Train(["train", .. args, "--out", Path.Combine(_dir, "bad-run")]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(expected, r.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.All, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "bad-run", "checkpoint")));
    }

    /// <summary>
    /// Only heads that start pretrained with the backbone (BlazeFace's own keypoint layers): a
    /// frozen epoch would have nothing to learn (torch refused the backward pass: "element 0 of
    /// tensors does not require grad"), so it is left out, said so, and all layers train.
    /// </summary>
    [Fact]
    public void Frozen_epochs_are_left_out_when_every_head_starts_pretrained()
    {
        string run = Path.Combine(_dir, "pretrained-only");
        var r = Train("train", "--data", data.Set, "--heads", "keypoints", "--point-head", "keypoints=anchor", "--batch", "8", "--max-batches", "2", "--threads", "2",
            "--freeze-epochs", "1", "--epochs", "1", "--out", run);
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Contains("--freeze-epochs 1: every head starts pretrained with the backbone, so nothing would learn while it is frozen; those epochs are left out", r.StdOut, StringComparison.Ordinal);
        string[] epochs = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.Single(epochs);
        Assert.Contains("\"phase\":\"all\"", epochs[0], StringComparison.Ordinal);
        var recipe = ModelManifest.FromJson(OnnxFile.Load(Path.Combine(run, "model.onnx")).MetadataProps.Single(p => p.Key == ModelManifest.MetadataKey).Value).Training!;
        Assert.Equal("0 frozen + 1", recipe["epochs"]);
    }

    [Theory]
    [InlineData(4, false, "97372 parameters never train: the stem, blocks 0-4, a copy of the blocks after them, the keypoint head); the other heads learn on the backbone's blocks 5-15")]
    [InlineData(8, true, "97372 parameters never train: the stem, blocks 0-10, a copy of the blocks after them, the keypoint head); the other heads learn on the backbone's blocks 11-15")]
    public void Keep_keypoints_trains_from_the_command_line_and_the_recipe_says_so(int keepFrom, bool guide, string log)
    {
        string run = Path.Combine(_dir, $"kept-{keepFrom}");
        var r = Train(["train", "--data", data.Set, "--heads", "center,keypoints", "--point-head", "keypoints=anchor", "--keep-keypoints", "--keep-from", $"{keepFrom}", "--batch", "8", "--max-batches", "2",
            "--threads", "2", "--freeze-epochs", "0", "--epochs", "1", "--out", run, .. guide ? ["--guide-keypoints"] : Array.Empty<string>()]);
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Contains("--keep-keypoints: BlazeFace's keypoint path is kept as it starts (", r.StdOut, StringComparison.Ordinal);
        Assert.Contains(log, r.StdOut, StringComparison.Ordinal);
        var recipe = ModelManifest.FromJson(OnnxFile.Load(Path.Combine(run, "model.onnx")).MetadataProps.Single(p => p.Key == ModelManifest.MetadataKey).Value).Training!;
        Assert.Equal("true", recipe["keep_keypoints"]);
        Assert.Equal(keepFrom == 4 ? null : $"{keepFrom}", recipe.TryGetValue("keep_from", out string? from) ? from : null);
        Assert.Equal(guide ? "true" : null, recipe.TryGetValue("guide_keypoints", out string? g) ? g : null);
        Assert.Equal(guide, r.StdOut.Contains("--guide-keypoints: a second keypoint head (9880 parameters) learns from the keypoint labels on blocks 11-15 during training; it is not exported", StringComparison.Ordinal));
    }

    [Fact]
    public void A_nan_loss_stops_the_run_naming_where_and_keeps_the_last_checkpoint()
    {
        var good = Loaders.Jsonl(Path.Combine(data.Set, LabelsFile.FileName)).Items.Take(40).ToList();
        var poisoned = good.Select((item, i) => i == 3 ? item with { Label = item.Label with { Center = [double.NaN, 0] } } : item).ToList();
        var config = new ModelConfig { Backbone = "blazeface", InputSize = 64, Heads = [new HeadConfig { Kind = "center" }] };
        using var model = new MultiHeadNet(config);
        var pre = model.Backbone.Preprocessing;
        var options = new TrainOptions { Epochs = 1, FreezeEpochs = 0, BatchSize = 8, Threads = 2, Augment = AugmentOptions.None };
        using var learner = new Learner(model, new Batcher(poisoned, config, pre, []), new Batcher(good, config, pre, []), options);
        string checkpoint = Path.Combine(_dir, "ck");
        learner.SaveCheckpoint(checkpoint);
        DateTime stamp = File.GetLastWriteTimeUtc(Path.Combine(checkpoint, Checkpoint.WeightsFile));

        var e = Assert.Throws<InvalidOperationException>(() => learner.FitOneCycle(1, 1e-3, 1e-3));
        Assert.Contains("the loss is NaN at epoch 1, batch", e.Message, StringComparison.Ordinal);
        Assert.Contains("the last checkpoint holds epoch 0", e.Message, StringComparison.Ordinal);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(checkpoint, Checkpoint.WeightsFile)));
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using HeadTracking.Runtime.Contract;
using HeadTracking.Tests;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Synthesis;
using OpenCvSharp;

namespace HeadTracking.Trainer.Tests;

/// <summary>
/// The classic transfer-learning tasks from the trainer's command line, as a user runs them:
/// each trains a small model on data the test makes, asserts its validation metric beats a
/// stated bound, and checks that `eval` in ONNX Runtime on the export measures what the trainer
/// measured (within 1%).
/// </summary>
public sealed class TaskTests : IDisposable
{
    private readonly string _dir = Repo.NewTempDir("tasks");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Processes.Result Cli(params string[] args) =>
        Processes.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "headtracker-train.dll"), .. args], timeoutSeconds: 600);

    /// <summary>Trains at 64x64 on two threads; returns the last epoch's metrics.</summary>
    private Dictionary<string, double> Train(string run, params string[] args)
    {
        var r = Cli(["train", .. args, "--size", "64", "--threads", "2", "--out", run]);
        Assert.True(r.ExitCode == 0, r.All);
        foreach (string file in new[] { "metrics.jsonl", "losses.png", "results.png", "model.onnx" })
        {
            Assert.True(File.Exists(Path.Combine(run, file)), $"{file} missing from {run}");
        }

        return Metrics(JsonDocument.Parse(File.ReadAllLines(Path.Combine(run, "metrics.jsonl"))[^1]).RootElement.GetProperty("metrics"));
    }

    /// <summary>eval of the run's export on the valid split of the same data and options.</summary>
    private Dictionary<string, double> Eval(string run, params string[] dataArgs)
    {
        string json = Path.Combine(run, "eval.json");
        var r = Cli(["eval", "--model", Path.Combine(run, "model.onnx"), .. dataArgs, "--split", "valid", "--json", json]);
        Assert.True(r.ExitCode == 0, r.All);
        return Metrics(JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("metrics"));
    }

    private static Dictionary<string, double> Metrics(JsonElement e) =>
        e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());

    private static void Agree(double trainer, double onnx, string metric) =>
        Assert.True(Math.Abs(trainer - onnx) <= 0.01 * Math.Max(Math.Abs(trainer), 1e-3) + 1e-6, $"{metric}: trainer {trainer}, ONNX Runtime {onnx}");

    [Fact]
    public void Counting_circles_as_single_label_classification_then_interpret()
    {
        string data = Path.Combine(_dir, "count");
        var synth = Cli("synth-count", "--out", data, "--count", "480", "--min", "1", "--max", "3", "--size", "64", "--seed", "3");
        Assert.True(synth.ExitCode == 0, synth.All);
        Assert.Equal(["1", "2", "3"], Directory.GetDirectories(Path.Combine(data, "train")).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        string run = Path.Combine(_dir, "count-run");
        string[] dataArgs = ["--data", data, "--format", "folder"];
        var m = Train(run, [.. dataArgs, "--heads", "class", "--freeze-epochs", "1", "--epochs", "10", "--lr", "1e-2", "--lr-mult", "10", "--augment", "no-crop"]);
        Assert.InRange(m["error_rate"], 0, 0.15);
        Assert.Equal(1 - m["error_rate"], m["accuracy"], 9);
        Agree(m["error_rate"], Eval(run, dataArgs)["error_rate"], "error_rate");

        string interp = Path.Combine(_dir, "interp");
        var r = Cli(["interpret", "--model", Path.Combine(run, "model.onnx"), .. dataArgs, "--out", interp, "--top", "6"]);
        Assert.True(r.ExitCode == 0, r.All);
        foreach (string file in new[] { "confusion.png", "top-losses.png", "interpret.json" })
        {
            Assert.True(File.Exists(Path.Combine(interp, file)), $"{file} missing");
        }

        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(interp, "interpret.json"))).RootElement;
        long[][] counts = [.. json.GetProperty("confusion").GetProperty("counts").EnumerateArray().Select(row => row.EnumerateArray().Select(c => c.GetInt64()).ToArray())];
        int valid = Directory.GetFiles(Path.Combine(data, "valid"), "*.png", SearchOption.AllDirectories).Length;
        Assert.Equal(valid, counts.Sum(row => row.Sum()));
        long wrong = counts.Select((row, i) => row.Where((_, j) => j != i).Sum()).Sum();
        Assert.Equal(m["error_rate"], (double)wrong / valid, 6);
        Assert.Equal(wrong, json.GetProperty("most_confused").EnumerateArray().Sum(p => p.GetProperty("times").GetInt64()));
        using Mat confusion = Cv2.ImRead(Path.Combine(interp, "confusion.png"));
        Assert.True(confusion.Width > 100 && confusion.Height > 100);
    }

    [Fact]
    public void Counting_circles_as_a_value_with_label_as_value()
    {
        string data = Path.Combine(_dir, "count-value");
        var synth = Cli("synth-count", "--out", data, "--count", "360", "--min", "1", "--max", "3", "--size", "64", "--seed", "4");
        Assert.True(synth.ExitCode == 0, synth.All);

        // The folder names become one value named count; a label that is no number is named.
        Dataset d = new DataSpec { Format = "folder", Paths = [data], LabelAsValue = "count" }.Load();
        Assert.Equal(["count"], d.ValueNames);
        Assert.Empty(d.Classes);
        Assert.All(d.Items, i => Assert.Contains(i.Label.Values!.Single(), new[] { 1.0, 2.0, 3.0 }));
        Directory.CreateDirectory(Path.Combine(data, "train", "many"));
        File.Copy(Directory.GetFiles(Path.Combine(data, "train", "1"))[0], Path.Combine(data, "train", "many", "odd.png"));
        var bad = Assert.Throws<InvalidDataException>(() => new DataSpec { Format = "folder", Paths = [data], LabelAsValue = "count" }.Load());
        Assert.Contains("odd.png", bad.Message, StringComparison.Ordinal);
        Assert.Contains("--label-as-value", bad.Message, StringComparison.Ordinal);
        Directory.Delete(Path.Combine(data, "train", "many"), recursive: true);

        string run = Path.Combine(_dir, "count-value-run");
        string[] dataArgs = ["--data", data, "--format", "folder", "--label-as-value", "count"];
        var m = Train(run, [.. dataArgs, "--heads", "value", "--freeze-epochs", "1", "--epochs", "8", "--lr", "1e-2", "--lr-mult", "10", "--augment", "no-crop"]);
        Assert.True(m["value_mae"] < 0.5, $"count MAE {m["value_mae"]} (always answering 2 gives 0.67)");
        Assert.True(m["value_exact"] > 0.5, $"rounded count right for {m["value_exact"]:P0} (always 2: 33%)");
        var e = Eval(run, dataArgs);
        Agree(m["value_mae"], e["value_mae"], "value_mae");
    }

    [Fact]
    public void Counting_many_circles_by_summing_a_density_map()
    {
        string data = Path.Combine(_dir, "count-density");
        var synth = Cli("synth-count", "--out", data, "--count", "360", "--min", "8", "--max", "12", "--size", "64", "--seed", "4");
        Assert.True(synth.ExitCode == 0, synth.All);
        string[] dataArgs = ["--data", data, "--format", "folder", "--label-as-value", "count"];

        var wrong = Cli(["train", .. dataArgs, "--heads", "value", "--value-head", "sum", "--out", Path.Combine(_dir, "count-density-bad")]);
        Assert.NotEqual(0, wrong.ExitCode);
        Assert.Contains("--value-head", wrong.All, StringComparison.Ordinal);

        // A hand run (2 cores): MAE 0.40, 66% exact; always answering 10 gives MAE 1.2 and 20%.
        string run = Path.Combine(_dir, "count-density-run");
        var m = Train(run, [.. dataArgs, "--heads", "value", "--value-head", "density", "--freeze-epochs", "1", "--epochs", "8", "--lr", "1e-2", "--lr-mult", "10", "--augment", "no-crop"]);
        Assert.True(m["value_mae"] < 0.7, $"count MAE {m["value_mae"]} (always 10: 1.2)");
        Assert.True(m["value_exact"] > 0.35, $"rounded count right for {m["value_exact"]:P0} (always 10: 20%)");
        var e = Eval(run, dataArgs);
        Agree(m["value_mae"], e["value_mae"], "value_mae");
    }

    [Fact]
    public void A_regex_labels_images_by_file_name_and_a_bad_regex_is_named()
    {
        string flat = Path.Combine(_dir, "pets");
        Directory.CreateDirectory(flat);
        string[] breeds = ["great_pyrenees", "Abyssinian", "yorkshire_terrier"];
        for (int i = 0; i < 12; i++)
        {
            using var image = new Mat(32, 32, MatType.CV_8UC3, Scalar.All(i * 20));
            Cv2.ImWrite(Path.Combine(flat, $"{breeds[i % 3]}_{i + 1}.jpg"), image);
        }

        File.WriteAllText(Path.Combine(flat, "notes.txt"), "not an image");
        using (var odd = new Mat(32, 32, MatType.CV_8UC3, Scalar.All(9)))
        {
            Cv2.ImWrite(Path.Combine(flat, "no-number.jpg"), odd);
        }

        Dataset d = new DataSpec { Format = "folder", Paths = [flat], LabelRegex = @"(.+)_\d+.jpg$" }.Load();
        Assert.Equal(breeds.Order(StringComparer.Ordinal), d.Classes);
        Assert.Equal(12, d.Items.Count);
        Assert.All(d.Items, i => Assert.StartsWith(i.Label.Classes![0] + "_", Path.GetFileName(i.ImagePath!), StringComparison.Ordinal));
        Assert.Contains("no-number.jpg: --label-regex", d.Skipped.First[0], StringComparison.Ordinal);

        var noGroup = Cli("train", "--data", flat, "--format", "folder", "--label-regex", @".+\.jpg", "--heads", "class", "--out", Path.Combine(_dir, "x"));
        Assert.Equal(2, noGroup.ExitCode);
        Assert.Contains("option --label-regex: '.+\\.jpg' has no group", noGroup.StdErr, StringComparison.Ordinal);
        var wrongFormat = Cli("train", "--data", flat, "--format", "csv", "--label-regex", "(.+)", "--heads", "class", "--out", Path.Combine(_dir, "x"));
        Assert.Equal(2, wrongFormat.ExitCode);
        Assert.Contains("option --label-regex: labels file names of --format folder, not csv", wrongFormat.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Mosaics_of_fashion_mnist_are_labelled_with_the_classes_they_show()
    {
        Repo.Fetched(Path.Combine("fashion-mnist", "train-images-idx3-ubyte.gz"));
        string data = Path.Combine(_dir, "mosaic");
        var make = Cli("mosaic", "--idx", Path.Combine(Repo.External, "fashion-mnist"), "--out", data, "--count", "50", "--seed", "1");
        Assert.True(make.ExitCode == 0, make.All);
        Dataset d = new DataSpec { Format = "csv", Paths = [Path.Combine(data, "labels.csv")] }.Load();
        Assert.Equal(50, d.Items.Count);
        Assert.All(d.Items, i => Assert.InRange(i.Label.Classes!.Length, 1, 4));
        Assert.Contains("Ankle_boot", d.Classes);
        Assert.True(d.Valid.Any() && d.Train.Any());
        using Mat first = d.Items[0].Load();
        Assert.Equal((56, 56), (first.Width, first.Height));
    }

    [Fact]
    public void Multi_label_classification_from_a_pascal_style_csv()
    {
        // Each picture shows a random non-empty set of three shapes: its labels.
        string root = Path.Combine(_dir, "shapes");
        Directory.CreateDirectory(Path.Combine(root, "train"));
        var csv = new StringBuilder("fname,labels,is_valid\n");
        var rng = new Random(7);
        for (int i = 0; i < 480; i++)
        {
            int set = 1 + rng.Next(7);
            using var image = new Mat(64, 64, MatType.CV_8UC3, Scalar.All(30 + rng.Next(40)));
            var labels = new List<string>();
            if ((set & 1) != 0)
            {
                Cv2.Circle(image, new Point(12 + rng.Next(40), 12 + rng.Next(40)), 9, new Scalar(40, 40, 230), -1);
                labels.Add("red_disc");
            }

            if ((set & 2) != 0)
            {
                int x = rng.Next(44), y = rng.Next(44);
                Cv2.Rectangle(image, new Rect(x, y, 18, 18), new Scalar(40, 220, 40), -1);
                labels.Add("green_square");
            }

            if ((set & 4) != 0)
            {
                int x = rng.Next(40), y = rng.Next(56);
                Cv2.Line(image, new Point(x, y), new Point(x + 24, y), new Scalar(230, 80, 40), 4);
                labels.Add("blue_bar");
            }

            Cv2.ImWrite(Path.Combine(root, "train", $"{i}.png"), image);
            csv.Append(CultureInfo.InvariantCulture, $"{i}.png,{string.Join(" ", labels)},{(i % 5 == 0 ? "True" : "False")}\n");
        }

        File.WriteAllText(Path.Combine(root, "labels.csv"), csv.ToString());
        string run = Path.Combine(_dir, "shapes-run");
        string[] dataArgs = ["--data", Path.Combine(root, "labels.csv"), "--format", "csv", "--images", Path.Combine(root, "train")];
        var m = Train(run, [.. dataArgs, "--heads", "class", "--freeze-epochs", "1", "--epochs", "10", "--lr", "1e-2", "--lr-mult", "10"]);
        // Always answering "absent" scores about 0.43 here (each label is present 4 times in 7).
        Assert.InRange(m["accuracy_multi"], 0.8, 1);
        Assert.True(m.ContainsKey("f1_red_disc") && m.ContainsKey("f1_macro"), string.Join(", ", m.Keys));
        Assert.InRange(m["f1_macro"], 0.7, 1);
        var onnx = Eval(run, dataArgs);
        Agree(m["accuracy_multi"], onnx["accuracy_multi"], "accuracy_multi");
        Agree(m["f1_macro"], onnx["f1_macro"], "f1_macro");
    }

    [Fact]
    public void Segmentation_of_synthetic_head_parts_with_an_n_class_mask_head()
    {
        string data = Path.Combine(_dir, "parts");
        var make = Cli("synth", "--out", data, "--count", "400", "--size", "64", "--seed", "2", "--parts");
        Assert.True(make.ExitCode == 0, make.All);
        Assert.Equal(HeadSynthesizer.PartCodes, File.ReadAllLines(Path.Combine(data, "codes.txt")));

        string run = Path.Combine(_dir, "parts-run");
        string[] dataArgs = ["--data", data, "--format", "segmentation"];
        var m = Train(run, [.. dataArgs, "--heads", "mask", "--freeze-epochs", "1", "--epochs", "8", "--lr", "1e-2", "--lr-mult", "10"]);
        // Five classes; calling every pixel background scores about 0.7 pixel accuracy and 0.14 mean IoU.
        Assert.InRange(m["pixel_accuracy"], 0.8, 1);
        Assert.InRange(m["mean_iou"], 0.35, 1);
        Assert.InRange(m["iou_background"], 0.8, 1);
        Agree(m["mean_iou"], Eval(run, dataArgs)["mean_iou"], "mean_iou");

        string interp = Path.Combine(_dir, "parts-interp");
        var r = Cli(["interpret", "--model", Path.Combine(run, "model.onnx"), .. dataArgs, "--out", interp]);
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Contains("IoU per class: background", r.StdOut, StringComparison.Ordinal);
        using Mat grid = Cv2.ImRead(Path.Combine(interp, "segmentation.png"));
        Assert.False(grid.Empty());
    }

    [Fact]
    public void Head_centre_regression_from_a_biwi_layout_with_y_range()
    {
        // Two people, frames of a bright disc (the "head") whose centre the pose file gives in mm.
        string root = Path.Combine(_dir, "biwi");
        var rng = new Random(4);
        for (int person = 1; person <= 2; person++)
        {
            string dir = Path.Combine(root, $"{person:D2}");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "rgb.cal"), "500 0 320\n0 500 240\n0 0 1\n\n0 0 0 0\n");
            for (int f = 0; f < 150; f++)
            {
                double u = 120 + (rng.NextDouble() * 400), v = 100 + (rng.NextDouble() * 280), z = 900;
                using var image = new Mat(480, 640, MatType.CV_8UC3, new Scalar(30 + rng.Next(40), 40, 50));
                Cv2.Circle(image, new Point(u, v), 60, new Scalar(180, 200, 230), -1, LineTypes.AntiAlias);
                Cv2.ImWrite(Path.Combine(dir, $"frame_{f:D5}_rgb.jpg"), image);
                double x = (u - 320) * z / 500, y = (v - 240) * z / 500;
                File.WriteAllText(Path.Combine(dir, $"frame_{f:D5}_pose.txt"), string.Create(CultureInfo.InvariantCulture, $"1 0 0\n0 1 0\n0 0 1\n\n{x} {y} {z}\n"));
            }
        }

        string run = Path.Combine(_dir, "biwi-run");
        string[] dataArgs = ["--data", root, "--format", "biwi", "--valid-groups", "02"];
        var m = Train(run, [.. dataArgs, "--heads", "center", "--y-range", "-1,1", "--freeze-epochs", "1", "--epochs", "8", "--lr", "1e-2", "--lr-mult", "10"]);
        // 64 pixels across the 640-pixel frame: 5 model pixels is 50 frame pixels, under half the
        // disc; answering the frame's centre is off by about 11.
        Assert.InRange(m["center_px"], 0, 5);
        Agree(m["center_mse"], Eval(run, dataArgs)["center_mse"], "center_mse");
    }

    [Fact]
    public void Class_and_box_multi_task_from_a_box_csv_with_loss_weights_1_and_10()
    {
        // One rectangle a picture, red or blue: the class is its colour, the box its corners.
        string root = Path.Combine(_dir, "boxes");
        Directory.CreateDirectory(Path.Combine(root, "pics"));
        var csv = new StringBuilder("image_id,x_min,x_max,y_min,y_max,class_name,folder\n");
        var rng = new Random(5);
        for (int i = 0; i < 400; i++)
        {
            double x0 = rng.NextDouble() * 0.5, y0 = rng.NextDouble() * 0.5, x1 = x0 + 0.25 + (rng.NextDouble() * 0.25), y1 = y0 + 0.25 + (rng.NextDouble() * 0.25);
            bool red = rng.Next(2) == 0;
            using var image = new Mat(96, 96, MatType.CV_8UC3, Scalar.All(60 + rng.Next(60)));
            Cv2.Rectangle(image, new Point(x0 * 96, y0 * 96), new Point(x1 * 96, y1 * 96), red ? new Scalar(40, 40, 220) : new Scalar(220, 60, 40), -1);
            Cv2.ImWrite(Path.Combine(root, "pics", $"im{i}.png"), image);
            csv.Append(CultureInfo.InvariantCulture, $"im{i},{x0:F4},{x1:F4},{y0:F4},{y1:F4},{(red ? "red" : "blue")},pics\n");
        }

        File.WriteAllText(Path.Combine(root, "boxes.csv"), csv.ToString());
        string run = Path.Combine(_dir, "boxes-run");
        string[] dataArgs = ["--data", Path.Combine(root, "boxes.csv"), "--format", "boxes", "--valid-pct", "0.2"];
        var m = Train(run, [.. dataArgs, "--heads", "class,box", "--loss-weights", "class=1,box=10", "--freeze-epochs", "1", "--epochs", "8", "--lr", "1e-2", "--lr-mult", "10"]);
        Assert.InRange(m["error_rate"], 0, 0.05);
        Assert.InRange(m["box_iou"], 0.5, 1);
        var onnx = Eval(run, dataArgs);
        Agree(m["box_iou"], onnx["box_iou"], "box_iou");
        Agree(m["error_rate"], onnx["error_rate"], "error_rate");
        Assert.Contains("\"format\":\"boxes\"", File.ReadAllText(Path.Combine(run, "model.onnx")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_class_and_a_continuous_value_like_age_and_gender()
    {
        // A disc whose radius grows with the "age" (10-70) and whose colour is the "gender".
        string root = Path.Combine(_dir, "faces");
        Directory.CreateDirectory(Path.Combine(root, "img"));
        var csv = new StringBuilder("fname,labels,age,is_valid\n");
        var rng = new Random(6);
        for (int i = 0; i < 400; i++)
        {
            double age = 10 + (rng.NextDouble() * 60);
            bool woman = rng.Next(2) == 0;
            using var image = new Mat(64, 64, MatType.CV_8UC3, Scalar.All(40));
            Cv2.Circle(image, new Point(20 + rng.Next(24), 20 + rng.Next(24)), (int)(4 + (age / 5)), woman ? new Scalar(60, 180, 230) : new Scalar(230, 170, 60), -1, LineTypes.AntiAlias);
            Cv2.ImWrite(Path.Combine(root, "img", $"{i}.png"), image);
            csv.Append(CultureInfo.InvariantCulture, $"img/{i}.png,{(woman ? "woman" : "man")},{age:F1},{(i % 5 == 0 ? "True" : "False")}\n");
        }

        string file = Path.Combine(root, "people.csv");
        File.WriteAllText(file, csv.ToString());
        string run = Path.Combine(_dir, "age-run");
        string[] dataArgs = ["--data", file, "--format", "csv", "--value-columns", "age"];
        var m = Train(run, [.. dataArgs, "--heads", "class,value", "--freeze-epochs", "1", "--epochs", "6", "--lr", "1e-2", "--augment", "no-crop"]);
        // Ages spread uniformly over 60 years (mean error of always answering 40: 15 years).
        Assert.InRange(m["value_mae"], 0, 6);
        Assert.InRange(m["error_rate"], 0, 0.05);
        Agree(m["value_mae"], Eval(run, dataArgs)["value_mae"], "value_mae");
    }

    [Fact]
    public void Lr_find_runs_for_class_mask_and_value_heads()
    {
        string data = Path.Combine(_dir, "count");
        Assert.Equal(0, Cli("synth-count", "--out", data, "--count", "120", "--min", "1", "--max", "2", "--size", "32").ExitCode);
        string plot = Path.Combine(_dir, "lr.png");
        var r = Cli("lr-find", "--data", data, "--format", "folder", "--heads", "class", "--size", "64", "--batch", "16", "--threads", "2", "--plot", plot);
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Matches(@"suggested learning rate [0-9.eE+-]+", r.StdOut);
        Assert.True(File.Exists(plot));
    }

    [Fact]
    public void Keypoint_names_from_a_points_csv_reach_the_model_and_mirror_left_and_right()
    {
        Assert.Equal([1, 0, 2], Conventions.FlipOrder(["left_eye", "right_eye", "nose"]));
        Assert.Equal([1, 0, 2, 3], Conventions.FlipOrder(["L_ear", "R_ear", "chin", "Leftover"]));
        Assert.Equal([1, 0, 2, 3, 5, 4], Conventions.FlipOrder(Conventions.KeypointNames)); // BlazeFace's six mirrored

        string root = Path.Combine(_dir, "points");
        Directory.CreateDirectory(root);
        var csv = new StringBuilder("image,left_eye_x,left_eye_y,right_eye_x,right_eye_y\n");
        for (int i = 0; i < 10; i++)
        {
            using var image = new Mat(48, 48, MatType.CV_8UC3, Scalar.All(i * 10));
            Cv2.ImWrite(Path.Combine(root, $"{i}.png"), image);
            csv.Append(CultureInfo.InvariantCulture, $"{i}.png,{30 + i},20,{10 + i},20\n");
        }

        File.WriteAllText(Path.Combine(root, "points.csv"), csv.ToString());
        var request = new Training.TrainRequest { Data = new DataSpec { Format = "points", Paths = [Path.Combine(root, "points.csv")], ValidPct = 0.3, Seed = 1 }, Heads = ["keypoints"] };
        (Dataset all, var train, _) = Training.TrainRun.LoadData(request, TextWriter.Null);
        var config = Training.TrainRun.Configure(request, all, train, TextWriter.Null);
        Assert.Equal(["left_eye", "right_eye"], config.Heads.Single().KeypointNames!);
    }
}

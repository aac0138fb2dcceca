using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using HeadTracking.Tests;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Data.Loaders;
using OpenCvSharp;

namespace HeadTracking.Trainer.Tests;

/// <summary>Every loader on a small fixture the test writes, including its bad lines.</summary>
public sealed class LoaderTests : IDisposable
{
    private readonly string _dir = Repo.NewTempDir("loaders");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Image(string relative, int w = 40, int h = 30, byte grey = 100)
    {
        string path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var m = new Mat(h, w, MatType.CV_8UC3, Scalar.All(grey));
        Cv2.ImWrite(path, m);
        return path;
    }

    private string Text(string relative, params string[] lines)
    {
        string path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void Folder_per_class_with_train_and_valid_folders()
    {
        Image("pets/train/cat/a.jpg");
        Image("pets/train/cat/b.jpg");
        Image("pets/train/dog/c.jpg");
        Image("pets/valid/dog/d.jpg");
        Dataset d = Loaders.FolderPerClass(Path.Combine(_dir, "pets"));
        Assert.Equal(["cat", "dog"], d.Classes);
        Assert.Equal(4, d.Items.Count);
        Assert.Equal("d.jpg", Path.GetFileName(d.Valid.Single().ImagePath));
        Assert.Equal(["dog"], d.Valid.Single().Label.Classes!);
    }

    [Fact]
    public void Multi_label_csv_with_is_valid_and_a_bad_line()
    {
        Image("voc/1.jpg");
        Image("voc/2.jpg");
        string csv = Text("voc.csv", "fname,labels,is_valid", "1.jpg,person dog,False", "2.jpg,car,True", "3.jpg,cat,False", "1.jpg,,False");
        Dataset d = Loaders.LabelCsv(csv, Path.Combine(_dir, "voc"));
        Assert.Equal(2, d.Items.Count);
        Assert.Equal(["person", "dog"], d.Items[0].Label.Classes!);
        Assert.Equal("valid", d.Items[1].Label.Split);
        Assert.Equal(["car", "dog", "person"], d.Classes);
        Assert.Equal(2, d.Skipped.Count);
        Assert.Contains($"{csv}:4: image", d.Skipped.First[0], StringComparison.Ordinal);
        Assert.Contains($"{csv}:5: no labels", d.Skipped.First[1], StringComparison.Ordinal);

        var e = Assert.Throws<InvalidDataException>(() => Loaders.LabelCsv(csv, Path.Combine(_dir, "voc"), strict: true));
        Assert.StartsWith($"{csv}:4:", e.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<InvalidDataException>(() => Loaders.LabelCsv(csv, _dir, labelColumn: "tags"));
        Assert.Contains("no column 'tags'", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Biwi_projects_the_head_centre_with_the_rgb_intrinsics()
    {
        Image("biwi/01/frame_00003_rgb.jpg", 640, 480);
        Image("biwi/01/frame_00004_rgb.jpg", 640, 480);
        Text("biwi/01/rgb.cal", "517.679 0 320", "0 517.679 240.5", "0 0 1", "", "0 0 0 0", "", "1 0 0", "0 1 0", "0 0 1", "", "0 0 0");
        Text("biwi/01/frame_00003_pose.txt", "1 0 0", "0 1 0", "0 0 1", "", "50 -20 1000");
        Text("biwi/01/frame_00004_pose.txt", "1 0 0", "broken");
        Dataset d = Loaders.Biwi(Path.Combine(_dir, "biwi"));
        DataItem item = Assert.Single(d.Items);
        Assert.Equal((50 * 517.679 / 1000) + 320, item.Label.Center![0], 6);
        Assert.Equal((-20 * 517.679 / 1000) + 240.5, item.Label.Center[1], 6);
        Assert.Equal("01", item.Label.Identity);
        Assert.Equal(1, d.Skipped.Count);
        Assert.Contains("frame_00004_pose.txt", d.Skipped.First[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Points_csv_reads_named_pairs_and_rejects_far_out_points()
    {
        Image("pts/a.jpg", 100, 80);
        Image("pts/b.jpg", 100, 80);
        string csv = Text("pts.csv", "image,nose_x,nose_y,chin_x,chin_y", "a.jpg,50,40,52,70", "b.jpg,50,40,900,70", "a.jpg,x,1,2,3");
        Dataset d = Loaders.PointsCsv(csv, Path.Combine(_dir, "pts"));
        DataItem item = Assert.Single(d.Items);
        Assert.Equal(["nose", "chin"], item.Label.KeypointNames!);
        Assert.Equal([52.0, 70, 1], item.Label.Keypoints![1]);
        Assert.Equal(2, d.Skipped.Count);
        Assert.Contains("keypoint out of range", d.Skipped.First[0], StringComparison.Ordinal);
        Assert.Contains("not a number", d.Skipped.First[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Box_csv_scales_normalised_corners_to_pixels()
    {
        Image("boxes/set1/img1.jpg", 200, 100);
        string csv = Text("boxes.csv", "image_id,x_min,x_max,y_min,y_max,class_name,folder",
            "img1,0.1,0.5,0.2,0.9,face,set1", "img1,0.5,0.4,0.2,0.9,face,set1", "img9,0.1,0.5,0.2,0.9,face,set1");
        Dataset d = Loaders.BoxCsv(csv, Path.Combine(_dir, "boxes"));
        DataItem item = Assert.Single(d.Items);
        Assert.Equal([20.0, 20, 100, 90], item.Label.Box!.Select(v => Math.Round(v, 6)));
        Assert.Equal(["face"], d.Classes);
        Assert.Equal(2, d.Skipped.Count);
    }

    [Fact]
    public void Segmentation_folders_pair_images_with_masks_and_codes()
    {
        Image("seg/images/street.png");
        Image("seg/images/alone.png");
        Image("seg/labels/street_P.png", grey: 2);
        Text("seg/codes.txt", "Void", "Road", "Car");
        Dataset d = Loaders.Segmentation(Path.Combine(_dir, "seg"));
        DataItem item = Assert.Single(d.Items);
        Assert.EndsWith("street_P.png", item.Label.Mask, StringComparison.Ordinal);
        Assert.Equal(["Void", "Road", "Car"], d.MaskCodes);
        Assert.Empty(d.Classes);
        Assert.Contains("alone.png: no mask", d.Skipped.First[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Idx_files_gzipped_or_not_decode_to_images_and_classes()
    {
        // Three 2x2 images, labels 0, 2, 1, as Fashion-MNIST stores them.
        byte[] images = [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 50, 100, 150, 1, 2, 3, 4, 9, 9, 9, 255];
        byte[] labels = [0, 0, 8, 1, 0, 0, 0, 3, 0, 2, 1];
        string imagesPath = Path.Combine(_dir, "images-idx3-ubyte.gz");
        using (var gz = new GZipStream(File.Create(imagesPath), CompressionLevel.Fastest))
        {
            gz.Write(images);
        }

        string labelsPath = Path.Combine(_dir, "labels-idx1-ubyte");
        File.WriteAllBytes(labelsPath, labels);
        Dataset d = Loaders.Idx(imagesPath, labelsPath, ["T-shirt/top", "Trouser", "Pullover"]);
        Assert.Equal(3, d.Items.Count);
        Assert.Equal(["T-shirt/top", "Pullover", "Trouser"], d.Items.Select(i => i.Label.Classes![0]));
        using Mat first = d.Items[0].Load();
        Assert.Equal(150, first.At<Vec3b>(1, 1).Item1);
        Assert.Equal(255, d.Items[2].Load().At<Vec3b>(1, 1).Item2);

        var e = Assert.Throws<InvalidDataException>(() => Loaders.Idx(labelsPath, labelsPath, ["a"]));
        Assert.Contains("not an idx3 image file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Jsonl_resolves_paths_next_to_the_labels_file()
    {
        Image("set/000000.jpg");
        string path = Text("set/labels.jsonl",
            """{"image":"000000.jpg","width":40,"height":30,"box":[1,1,20,20],"mask":"000000_mask.png"}""",
            """{"image":"gone.jpg","width":40,"height":30}""");
        Dataset d = Loaders.Jsonl(path);
        DataItem item = Assert.Single(d.Items);
        Assert.Equal(Path.Combine(_dir, "set", "000000_mask.png"), item.Label.Mask);
        Assert.Contains("gone.jpg not found", d.Skipped.First[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Group_split_holds_out_whole_identities_and_random_split_is_seeded()
    {
        var items = Enumerable.Range(0, 60).Select(i => new DataItem(new HeadLabel { Image = $"{i}.jpg", Identity = $"person{i % 6}#x" }, null)).ToList();
        var d = new Dataset("mem", items, [], new SkipReport());
        Dataset byPerson = Splitters.ByGroup(d, ["person3"]);
        Assert.Equal(10, byPerson.Valid.Count());
        Assert.All(byPerson.Valid, i => Assert.StartsWith("person3#", i.Label.Identity, StringComparison.Ordinal));

        Dataset randomGroups = Splitters.ByGroup(d, validFraction: 0.5, seed: 4);
        Assert.All(randomGroups.Items.GroupBy(i => i.Label.Identity), g => Assert.Single(g.Select(i => i.Label.Split).Distinct()));

        Assert.Equal(Splitters.Random(d, 0.2, 9).Items.Select(i => i.Label.Split), Splitters.Random(d, 0.2, 9).Items.Select(i => i.Label.Split));
        Assert.InRange(Splitters.Random(d, 0.2, 9).Valid.Count(), 4, 24);
    }
}
